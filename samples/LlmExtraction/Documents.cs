using System.Globalization;
using System.Text;

namespace LlmExtraction;

/// <summary>One extraction request: a chunk of a document, sent through the queue to the model.</summary>
/// <param name="ChunkId">The document and the chunk's place in it, e.g. <c>doc-0042/3</c>; also the idempotency key.</param>
/// <param name="Text">The chunk's text.</param>
public sealed record ExtractionRequest(string ChunkId, string Text);

/// <summary>The model's answer to one <see cref="ExtractionRequest"/>: the job's result.</summary>
/// <param name="ChunkId">The chunk it answers.</param>
/// <param name="Entities">The entities found in the chunk.</param>
/// <param name="Summary">A one-line summary.</param>
public sealed record Extraction(string ChunkId, IReadOnlyList<string> Entities, string Summary);

/// <summary>A document of the corpus and its chunks.</summary>
internal sealed record Document(string Id, IReadOnlyList<ExtractionRequest> Chunks);

/// <summary>A synthetic corpus: the same documents for the same seed, split into chunks of a few sentences.</summary>
internal static class Corpus
{
    private static readonly string[] Names =
    [
        "Acme", "Borealis", "Cobalt", "Dunmore", "Elbrus", "Fjord", "Galena", "Harrow", "Ionic", "Juniper", "Kestrel",
        "Lumen", "Meridian", "Nimbus", "Orchard", "Pioneer", "Quarry", "Rowan", "Sable", "Tundra",
    ];

    private static readonly string[] Verbs = ["acquired", "supplies", "audited", "partnered with", "sued", "hired from", "ships to"];

    /// <summary>The corpus: <paramref name="documents"/> documents of <paramref name="minChunks"/>–<paramref name="maxChunks"/> chunks each.</summary>
    public static IReadOnlyList<Document> Create(int seed, int documents, int minChunks, int maxChunks)
    {
        var random = new Random(seed);
        var corpus = new List<Document>(documents);
        for (int d = 0; d < documents; d++)
        {
            string id = string.Create(CultureInfo.InvariantCulture, $"doc-{d:0000}");
            int count = random.Next(minChunks, maxChunks + 1);
            var chunks = new List<ExtractionRequest>(count);
            for (int c = 0; c < count; c++)
            {
                var text = new StringBuilder();
                for (int s = 0; s < 3; s++)
                {
                    text.Append(Names[random.Next(Names.Length)]).Append(' ').Append(Verbs[random.Next(Verbs.Length)]).Append(' ')
                        .Append(Names[random.Next(Names.Length)]).Append(". ");
                }

                chunks.Add(new ExtractionRequest(string.Create(CultureInfo.InvariantCulture, $"{id}/{c}"), text.ToString().TrimEnd()));
            }

            corpus.Add(new Document(id, chunks));
        }

        return corpus;
    }
}
