namespace ResilientQueue;

/// <summary>One job for <see cref="IJobProducer.EnqueueManyAsync"/>: its payload and options.</summary>
/// <param name="Payload">The serialized payload.</param>
/// <param name="Options">The job's options, or <see langword="null"/> for the defaults.</param>
public readonly record struct JobSubmission(ReadOnlyMemory<byte> Payload, EnqueueOptions? Options = null);
