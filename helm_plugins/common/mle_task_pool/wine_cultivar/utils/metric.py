from helm_plugins.common.mle_tasks import CompetitionMetrics, macro_f1


class WineCultivarMetrics(CompetitionMetrics):
    id_column = "id"
    target_columns = ["cultivar"]
    value_kind = "label"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return macro_f1(y_true["cultivar"], y_pred["cultivar"])
