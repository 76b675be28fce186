from sklearn.metrics import roc_auc_score

from helm_plugins.common.mle_tasks import CompetitionMetrics, InvalidSubmissionError


class MalignancyMetrics(CompetitionMetrics):
    id_column = "id"
    target_columns = ["malignant"]
    value_kind = "probability"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        if y_true["malignant"].nunique() < 2:
            raise InvalidSubmissionError("ROC AUC needs both classes among the answers")
        return float(roc_auc_score(y_true["malignant"].astype(int), y_pred["malignant"].astype(float)))
