/* pthread_once's slow path in C, compiled with -fexceptions (build.rs): the one frame a C++
 * exception thrown by the init routine must unwind through on its way to the caller
 * (std::call_once throws through pthread_once and retries). Rust frames cannot be unwound
 * (panic=abort), so the state machine stays in Rust (sync::once) and is reached through
 * `ops`; this function only calls the routine, and its cleanup reports an unwind: a C++
 * exception, or the forced unwind of pthread_exit or cancellation inside the routine. */
#include <stddef.h>

struct rpthread_once_ops {
    /* 1: the caller runs the routine; 0: it has run; otherwise an errno value. */
    int (*begin)(int *control);
    /* The routine returned. */
    void (*finish)(int *control);
    /* The routine is being unwound. */
    void (*unwound)(int *control);
};

struct pending {
    int *control; /* NULL once the routine returned */
    const struct rpthread_once_ops *ops;
};

static void on_unwind(struct pending *p)
{
    if (p->control != NULL)
        p->ops->unwound(p->control);
}

int rpthread_once_slow(int *control, void (*init)(void), const struct rpthread_once_ops *ops)
{
    if (init == NULL)
        return 22; /* EINVAL */
    int r = ops->begin(control);
    if (r != 1)
        return r;
    {
        struct pending p __attribute__((cleanup(on_unwind))) = {control, ops};
        init();
        p.control = NULL;
    }
    ops->finish(control);
    return 0;
}
