//! Local platform (the embedded runtime): state directory, worker supervisor, log files, HTML dashboard. Lands with issue #8.
