from helm_plugins.common.mle_tasks import CompetitionMetrics


class DigitMetrics(CompetitionMetrics):
    id_column = "image"
    target_columns = ["digit"]
    value_kind = "label"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return float((y_true["digit"].astype(str) == y_pred["digit"].astype(str)).mean())
