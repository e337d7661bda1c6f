/* The unwinder's entry points that the library's own code names, forwarded to the unwinder
 * that runs (libgcc_s), which rpthread does not link: glibc loads libgcc_s only when a thread
 * is cancelled or exits by unwinding, and so does rpthread (cancel::unwind dlopens it).
 *
 * Who names them:
 * - once_unwind.c's frame (its cleanup): __gcc_personality_v0 in its unwind table and
 *   _Unwind_Resume at the end of the landing pad;
 * - the precompiled parts of Rust's core library (built for panic=unwind): rust_eh_personality
 *   in their unwind tables. rpthread is built with panic=abort and no unwinding ever crosses
 *   a Rust frame (cancellation stops at the C frames above them), so that personality only
 *   has to say "nothing to do here".
 *
 * Each definition is hidden (-fvisibility=hidden): it satisfies the library's own references
 * and never interposes on the program's or libgcc_s's symbols of the same name. A forwarder
 * runs only while something unwinds, that is, while an unwinder is loaded. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

struct _Unwind_Exception;
struct _Unwind_Context;
typedef int personality_fn(int, int, uint64_t, struct _Unwind_Exception *, struct _Unwind_Context *);
typedef void resume_fn(struct _Unwind_Exception *);

static personality_fn *gcc_personality;
static resume_fn *unwind_resume;

/* `name` in the loaded libgcc_s, or else in the global scope (another unwinder); aborts when
 * neither has it, which cannot happen while something unwinds through our frames. */
static void *lookup(const char *name)
{
    void *p = NULL;
    void *h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (h != NULL) {
        p = dlsym(h, name);
        dlclose(h); /* drops the reference NOLOAD took; whoever loaded it keeps theirs */
    }
    if (p == NULL)
        p = dlsym(RTLD_DEFAULT, name);
    if (p == NULL)
        abort();
    return p;
}

/* Resolves both forwarders now: cancel::unwind calls it right after loading libgcc_s, so that
 * a cancelled thread's unwinding does not call into the dynamic loader. Idempotent (relaxed
 * stores of the same values). */
void rpthread_unwind_resolve(void)
{
    __atomic_store_n(&gcc_personality, (personality_fn *)lookup("__gcc_personality_v0"), __ATOMIC_RELAXED);
    __atomic_store_n(&unwind_resume, (resume_fn *)lookup("_Unwind_Resume"), __ATOMIC_RELAXED);
}

int __gcc_personality_v0(int version, int actions, uint64_t class, struct _Unwind_Exception *e,
                         struct _Unwind_Context *c)
{
    personality_fn *f = __atomic_load_n(&gcc_personality, __ATOMIC_RELAXED);
    if (f == NULL) {
        rpthread_unwind_resolve();
        f = __atomic_load_n(&gcc_personality, __ATOMIC_RELAXED);
    }
    return f(version, actions, class, e, c);
}

void _Unwind_Resume(struct _Unwind_Exception *e)
{
    resume_fn *f = __atomic_load_n(&unwind_resume, __ATOMIC_RELAXED);
    if (f == NULL) {
        rpthread_unwind_resolve();
        f = __atomic_load_n(&unwind_resume, __ATOMIC_RELAXED);
    }
    f(e);
    abort(); /* _Unwind_Resume does not return */
}

/* 8 = _URC_CONTINUE_UNWIND: no handler and no cleanup in this frame. */
int rust_eh_personality(int version, int actions, uint64_t class, struct _Unwind_Exception *e,
                        struct _Unwind_Context *c)
{
    (void)version, (void)actions, (void)class, (void)e, (void)c;
    return 8;
}
