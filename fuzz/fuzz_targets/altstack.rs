//! Lets libFuzzer report stack overflows.
//!
//! Without a sanitizer nothing sets up an alternate signal stack, so when a
//! target overflows its stack, libFuzzer's SIGSEGV handler has no stack to
//! run on and the process dies silently, without saving the input. This
//! gives the main thread an alternate stack and makes libFuzzer's handler
//! (installed before the first input runs) use it, so an overflow is
//! reported as a "deadly signal" crash with its input saved in artifacts/.

pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| unsafe {
        const SIZE: usize = 1 << 20;
        let stack: &'static mut [u8] = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        let ss = libc::stack_t {
            ss_sp: stack.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: SIZE,
        };
        libc::sigaltstack(&ss, std::ptr::null_mut());
        for signal in [libc::SIGSEGV, libc::SIGBUS] {
            let mut action: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut action) == 0 {
                action.sa_flags |= libc::SA_ONSTACK;
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}
