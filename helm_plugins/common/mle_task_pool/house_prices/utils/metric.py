from helm_plugins.common.mle_tasks import CompetitionMetrics, mae


class HousePricesMetrics(CompetitionMetrics):
    id_column = "house_id"
    target_columns = ["price"]
    value_kind = "number"

    def __init__(self):
        super().__init__(higher_is_better=False)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return mae(y_true["price"], y_pred["price"])
