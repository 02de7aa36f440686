namespace LlmExtraction.FakeLlm;

/// <summary>What the fake model does with a chunk, decided once per run from the seed.</summary>
internal enum ChunkFate
{
    /// <summary>Answered well (unless the model is overloaded: then 429/503 with Retry-After, no attempt spent).</summary>
    Normal,

    /// <summary>The first answer is malformed JSON; the retry gets a good one.</summary>
    MalformedOnce,

    /// <summary>Malformed JSON on each of the first 3 calls (the job's 3 attempts: dead-lettered); good from the 4th (the requeue).</summary>
    Poison,

    /// <summary>The first call hangs until the caller gives up (the worker's job timeout); the retry is answered.</summary>
    StuckOnce,
}

/// <summary>
/// The faults the fake model injects, by chunk: which chunks are answered with malformed JSON once, which always
/// (until requeued), and which hang once. The sample knows the plan to check its outcome; the pipeline does not.
/// </summary>
internal sealed class FaultPlan
{
    /// <summary>Calls that a poison chunk is answered with malformed JSON: its attempts.</summary>
    public const int PoisonCalls = 3;

    private readonly Dictionary<string, ChunkFate> _fates;

    private FaultPlan(Dictionary<string, ChunkFate> fates) => _fates = fates;

    /// <summary>Chunks by fate (every fate but <see cref="ChunkFate.Normal"/>).</summary>
    public IReadOnlyList<string> Chunks(ChunkFate fate) => [.. _fates.Where(p => p.Value == fate).Select(p => p.Key).Order(StringComparer.Ordinal)];

    public ChunkFate FateOf(string chunkId) => _fates.GetValueOrDefault(chunkId, ChunkFate.Normal);

    /// <summary>The plan for a corpus: stuck chunks among the first fifth (so they are cut early in the run), the rest anywhere.</summary>
    public static FaultPlan Create(IReadOnlyList<Document> corpus, int seed, Scale scale)
    {
        var random = new Random(seed ^ 0x5eed);
        string[] chunks = [.. corpus.SelectMany(d => d.Chunks).Select(c => c.ChunkId)];
        var fates = new Dictionary<string, ChunkFate>(StringComparer.Ordinal);
        void Pick(int count, int range, ChunkFate fate)
        {
            while (count > 0)
            {
                string id = chunks[random.Next(Math.Max(1, range))];
                if (fates.TryAdd(id, fate))
                {
                    count--;
                }
            }
        }

        Pick(scale.StuckChunks, chunks.Length / 5, ChunkFate.StuckOnce);
        Pick(scale.PoisonChunks, chunks.Length, ChunkFate.Poison);
        Pick((int)(chunks.Length * scale.MalformedOnceRatio), chunks.Length, ChunkFate.MalformedOnce);
        return new FaultPlan(fates);
    }
}
