"""Stack: the Pulumi program's brain, without Pulumi. config.py validates Pulumi.<stack>.yaml (pydantic),
plan.py computes the StackPlan in one pass (store loaded once, one choice, the pod sized once) with one typed
spec per component (specs.py), render.py prints and serialises the offline plan. The only package the program
(__main__.py) reads; the mock runtime that runs the program offline lives in components/ (it imports Pulumi).
May import every package below it.
"""
