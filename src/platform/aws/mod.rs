//! AWS platform: CloudFormation stacks (change sets), the ECS worker service, CloudWatch. Lands with issue #4.
