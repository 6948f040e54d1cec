"""Byte-level automata (regex, DFA operations, pushdown grammars) and the Numba kernels over them."""


def load_kernels() -> None:
    """Load every kernel's machine code (compiled into Numba's on-disk cache by ``make install``), so
    that what is timed next, a compile or a first mask, does not include loading it."""
    from . import dfa_ops, kernels, pushdown_kernels, regex

    for module in (kernels, regex, pushdown_kernels, dfa_ops):
        module.warmup()
