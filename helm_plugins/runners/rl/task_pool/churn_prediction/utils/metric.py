from sklearn.metrics import roc_auc_score

from helm_plugins.common.mle_tasks import CompetitionMetrics, InvalidSubmissionError


class ChurnMetrics(CompetitionMetrics):
    id_column = "customer"
    target_columns = ["churned"]
    value_kind = "probability"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        labels = (y_true["churned"].astype(str) == "yes").astype(int)
        if labels.nunique() < 2:
            raise InvalidSubmissionError("ROC AUC needs both classes among the answers")
        return float(roc_auc_score(labels, y_pred["churned"].astype(float)))
