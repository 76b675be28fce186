from helm_plugins.common.mle_tasks import CompetitionMetrics, macro_f1


class LoanDefaultMetrics(CompetitionMetrics):
    id_column = "application"
    target_columns = ["defaulted"]
    value_kind = "label"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return macro_f1(y_true["defaulted"], y_pred["defaulted"])
