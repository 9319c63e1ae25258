"""Public-service policy on top of the engine: priority groups (priority), the labour market, counsellor explanations
and audits.
"""

__all__: list[str] = []
