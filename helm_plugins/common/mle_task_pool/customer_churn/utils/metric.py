from helm_plugins.common.mle_tasks import CompetitionMetrics, roc_auc


class CustomerChurnMetrics(CompetitionMetrics):
    id_column = "customer_id"
    target_columns = ["churned"]
    value_kind = "probability"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return roc_auc(y_true["churned"], y_pred["churned"])
