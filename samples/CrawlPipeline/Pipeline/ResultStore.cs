using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace CrawlPipeline.Pipeline;

/// <summary>Which crawl the queues hold, so that a run on Redis resumes the same one (same seed, same site).</summary>
/// <param name="Id">The crawl's id, part of every idempotency key (a reset starts a new crawl with new keys).</param>
/// <param name="Seed">The site's seed.</param>
/// <param name="Size">The site's size (<c>quick</c> or <c>full</c>).</param>
/// <param name="Resumed">Whether the crawl was started by an earlier run.</param>
public sealed record CrawlState(string Id, int Seed, string Size, bool Resumed);

/// <summary>Where the pipeline keeps its results: a dictionary in memory, a hash on Redis (so a later run sees them).</summary>
public interface IResultStore
{
    /// <summary>Returns the crawl the store holds, or starts one.</summary>
    ValueTask<CrawlState> BeginAsync(int seed, string size, CancellationToken cancellationToken);

    /// <summary>Stores a page's result (the same page again replaces it: at-least-once is harmless).</summary>
    ValueTask SaveAsync(PageResult result, CancellationToken cancellationToken);

    /// <summary>Records why a path was skipped.</summary>
    ValueTask SkipAsync(string path, string reason, CancellationToken cancellationToken);

    /// <summary>Everything stored, by path.</summary>
    ValueTask<IReadOnlyDictionary<string, PageRecord>> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Forgets the crawl and its results.</summary>
    ValueTask ClearAsync(CancellationToken cancellationToken);
}

/// <summary>The in-memory store (the default backend's companion: gone when the process ends).</summary>
public sealed class InMemoryResultStore : IResultStore
{
    private readonly ConcurrentDictionary<string, PageRecord> _records = new(StringComparer.Ordinal);
    private CrawlState? _state;

    /// <inheritdoc />
    public ValueTask<CrawlState> BeginAsync(int seed, string size, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_state ??= new CrawlState(Guid.CreateVersion7().ToString("N")[..12], seed, size, Resumed: false));

    /// <inheritdoc />
    public ValueTask SaveAsync(PageResult result, CancellationToken cancellationToken)
    {
        _records[result.Path] = new PageRecord(result.Path, result, null);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask SkipAsync(string path, string reason, CancellationToken cancellationToken)
    {
        _records[path] = new PageRecord(path, null, reason);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<string, PageRecord>> ReadAllAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyDictionary<string, PageRecord>>(new Dictionary<string, PageRecord>(_records, StringComparer.Ordinal));

    /// <inheritdoc />
    public ValueTask ClearAsync(CancellationToken cancellationToken)
    {
        _records.Clear();
        _state = null;
        return ValueTask.CompletedTask;
    }
}

/// <summary>The Redis store: <c>crawlpipeline:crawl</c> (a hash: id, seed, size) and <c>crawlpipeline:pages</c> (path → JSON).</summary>
public sealed class RedisResultStore(IConnectionMultiplexer redis) : IResultStore
{
    private static readonly RedisKey CrawlKey = "crawlpipeline:crawl";
    private static readonly RedisKey PagesKey = "crawlpipeline:pages";

    private IDatabase Db => redis.GetDatabase();

    /// <inheritdoc />
    public async ValueTask<CrawlState> BeginAsync(int seed, string size, CancellationToken cancellationToken)
    {
        string id = Guid.CreateVersion7().ToString("N")[..12];
        // Only the first run of a crawl sets it (HSETNX on the id): a later run reads what the first one wrote.
        bool started = await Db.HashSetAsync(CrawlKey, "id", id, When.NotExists).ConfigureAwait(false);
        if (started)
        {
            await Db.HashSetAsync(CrawlKey, [new("seed", seed), new("size", size)]).ConfigureAwait(false);
            return new CrawlState(id, seed, size, Resumed: false);
        }

        RedisValue[] values = await Db.HashGetAsync(CrawlKey, ["id", "seed", "size"]).ConfigureAwait(false);
        return new CrawlState(values[0].ToString(), int.Parse(values[1].ToString(), CultureInfo.InvariantCulture), values[2].ToString(), Resumed: true);
    }

    /// <inheritdoc />
    public async ValueTask SaveAsync(PageResult result, CancellationToken cancellationToken) =>
        await Db.HashSetAsync(PagesKey, result.Path, JsonSerializer.Serialize(new PageRecord(result.Path, result, null))).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask SkipAsync(string path, string reason, CancellationToken cancellationToken) =>
        await Db.HashSetAsync(PagesKey, path, JsonSerializer.Serialize(new PageRecord(path, null, reason))).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<string, PageRecord>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var records = new Dictionary<string, PageRecord>(StringComparer.Ordinal);
        await foreach (HashEntry entry in Db.HashScanAsync(PagesKey, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            PageRecord record = JsonSerializer.Deserialize<PageRecord>(entry.Value.ToString())!;
            records[record.Path] = record;
        }

        return records;
    }

    /// <inheritdoc />
    public async ValueTask ClearAsync(CancellationToken cancellationToken) =>
        await Db.KeyDeleteAsync([CrawlKey, PagesKey]).ConfigureAwait(false);
}
