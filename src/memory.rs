//! How the server's process holds memory.

/// Makes the C allocator give large blocks back to the system when they are freed.
///
/// glibc serves a block of 128 KB or more with its own mapping, but after one such
/// block is freed it raises that threshold (up to 32 MB) and the trim threshold with
/// it, so later large blocks (upload buffers, an export's pages, SQLite's caches)
/// come from the per-thread arenas and stay there once freed: a server that had
/// served a few uploads and an export kept ~90 MB it no longer used. Fixing the
/// threshold at glibc's own default stops that drift; the extra mapping per large
/// block was not measurable on any page (`docs/benchmarks.md`).
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: std::ffi::c_int = 128 * 1024;
        // SAFETY: mallopt only changes the allocator's tuning values; called once at
        // start, before the server's threads exist. It returns 0 when the value is
        // refused, which leaves glibc's defaults: nothing to undo.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD) };
        if set == 0 {
            log::warn!("the allocator refused a fixed mmap threshold: freed large blocks may stay held");
        }
    }
}
