// The scenarios measure time on a shared machine: one at a time, never beside each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
