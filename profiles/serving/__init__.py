"""Serving: what one replica runs. Owns the memory fit (sizing.py), where weights come from (source.py), the
serving plan (plan.py: model + accelerator + targets -> shape, fit, image, HPA settings) and the model servers
(servers/: the one seam a second server would implement; vllm.py today). Imports selection/, store/ (records),
catalog/.
"""
