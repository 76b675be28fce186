from helm_plugins.common.mle_tasks import CompetitionMetrics, rmse


class DiabetesProgressionMetrics(CompetitionMetrics):
    id_column = "patient"
    target_columns = ["progression"]
    value_kind = "number"

    def __init__(self):
        super().__init__(higher_is_better=False)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return rmse(y_true["progression"], y_pred["progression"])
