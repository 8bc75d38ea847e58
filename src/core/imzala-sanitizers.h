/* imzala-sanitizers.h: whether this build runs under a sanitizer's runtime,
 * for the few places that must behave otherwise there (GCC defines
 * __SANITIZE_*__, clang answers __has_feature). */
#pragma once

/* AddressSanitizer (with LeakSanitizer): imzala-http-session.c. */
#if defined(__SANITIZE_ADDRESS__)
# define IMZALA_ASAN 1
#elif defined(__has_feature)
# if __has_feature (address_sanitizer)
#  define IMZALA_ASAN 1
# endif
#endif

/* Any sanitizer whose runtime intercepts dlopen() and refuses
 * RTLD_DEEPBIND: imzala-module-set.c. */
#if defined(IMZALA_ASAN) || defined(__SANITIZE_THREAD__)
# define IMZALA_SANITIZER_RUNTIME 1
#elif defined(__has_feature)
# if __has_feature (thread_sanitizer) || __has_feature (memory_sanitizer)
#  define IMZALA_SANITIZER_RUNTIME 1
# endif
#endif
