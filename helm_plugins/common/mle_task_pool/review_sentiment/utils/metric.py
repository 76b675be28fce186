from helm_plugins.common.mle_tasks import CompetitionMetrics, accuracy


class ReviewSentimentMetrics(CompetitionMetrics):
    id_column = "review_id"
    target_columns = ["sentiment"]
    value_kind = "label"

    def __init__(self):
        super().__init__(higher_is_better=True)

    def evaluate(self, y_true, y_pred):
        y_true, y_pred = self.align(y_true, y_pred)
        return accuracy(y_true["sentiment"], y_pred["sentiment"])
