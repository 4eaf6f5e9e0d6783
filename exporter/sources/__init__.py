"""Where payloads come from (thin I/O): local files, S3 buckets, S3→SQS notifications."""
