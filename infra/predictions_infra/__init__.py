"""Pulumi program for the predictions dashboard on AWS (ECS Fargate behind an ALB, S3 data).

`config` turns stack configuration into a validated `StackConfig`; `stack.build_stack` creates
every resource from it. Nothing here needs the Pulumi CLI, so tests build it under mocks.
"""
