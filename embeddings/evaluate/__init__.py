"""Which embedding for my task: task benchmarks on the user's labels, paired verdicts, intrinsic benchmarks, before and after."""
