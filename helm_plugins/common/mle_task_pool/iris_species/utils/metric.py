from helm_plugins.common.mle_tasks import CompetitionMetrics


class IrisSpeciesMetrics(CompetitionMetrics):
    id_column = "id"
    target_columns = ["species"]
    value_kind = "label"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return float((y_true["species"].astype(str) == y_pred["species"].astype(str)).mean())
