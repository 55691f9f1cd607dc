//! CPU time of the running process and thread, for the benchmark tools (`benches/reader.rs`,
//! `benches/null_sink.rs`), which include this file with `#[path]`.

/// CPU seconds (user + system, all threads) this process has used.
pub fn process_seconds() -> f64 {
    // SAFETY: `getrusage` only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU seconds the calling thread has used.
#[allow(dead_code)] // used by the null sink only
pub fn thread_seconds() -> f64 {
    // SAFETY: `clock_gettime` only writes the struct it is given.
    let ts = unsafe {
        let mut ts = std::mem::zeroed::<libc::timespec>();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts
    };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
