import numpy as np

from helm_plugins.common.mle_tasks import CompetitionMetrics


class HousePriceMetrics(CompetitionMetrics):
    id_column = "house"
    target_columns = ["price"]
    value_kind = "number"

    def __init__(self):
        super().__init__(higher_is_better=False)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        error = y_true["price"].astype(float) - y_pred["price"].astype(float)
        return float(np.sqrt(np.mean(error ** 2)))
