"""The legacy RabbitMQ ingress: seed-000 job queues turned into `VideoAnalysisWorkflow` starts.

A process of its own beside the two workers (`ascension worker ingress`, `ingress.main`): what
a message means is `ingress.jobs`, how it is consumed, parked or requeued is `ingress.consumer`.
"""
