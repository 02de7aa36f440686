// The samples' runs are timed end to end (each --quick must finish in under 30 s) and drive fake servers of their own:
// one at a time, so they do not compete with each other for the machine's cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
