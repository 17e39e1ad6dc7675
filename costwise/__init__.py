"""costwise: cost estimator and right-sizing advisor for AWS ElastiCache Serverless."""

__version__ = "0.1.0"
