using System.Text;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Streams;

/// <summary>
/// The stream backend's scripts, embedded as <c>Lua/Streams/x&lt;verb&gt;-&lt;number of keys&gt;.lua</c>, loaded once. A line
/// <c>--!include _x.lua</c> is replaced by that file: <c>_streams.lua</c> from this folder, <c>_common.lua</c> and
/// <c>_transitions.lua</c> from the list backend's (<see cref="LuaScripts"/>). Per-group steps that are the list
/// backend's exactly (renew, started marks, checkpoints, turns, dead-letter pages and purges) run the list backend's
/// scripts on the group's keys.
/// </summary>
internal static class StreamScripts
{
    private const string ResourcePrefix = "ResilientQueue.Redis.StreamLua.";

    public static readonly RedisScript Enqueue = Load("xenqueue-5");
    public static readonly RedisScript Fetch = Load("xfetch-11");
    public static readonly RedisScript Ack = Load("xack-7");
    public static readonly RedisScript Complete = Load("xcomplete-7");
    public static readonly RedisScript Transition = Load("xtransition-9");
    public static readonly RedisScript Requeue = Load("xrequeue-9");
    public static readonly RedisScript Expired = Load("xexpired-6");
    public static readonly RedisScript GetJob = Load("xgetjob-9");
    public static readonly RedisScript Status = Load("xstatus-9");
    public static readonly RedisScript Peek = Load("xpeek-6");
    public static readonly RedisScript Ages = Load("xages-6");
    public static readonly RedisScript Depth = Load("xdepth-4");
    public static readonly RedisScript Groups = Load("xgroups-3");
    public static readonly RedisScript Trim = Load("xtrim-4");
    public static readonly RedisScript Clear = Load("xclear-5");

    /// <summary>Every stream script, for tests that check headers and key counts.</summary>
    public static IReadOnlyList<RedisScript> All { get; } =
        [Enqueue, Fetch, Ack, Complete, Transition, Requeue, Expired, GetJob, Status, Peek, Ages, Depth, Groups, Trim, Clear];

    /// <summary>The names of every embedded stream script file (without includes), to check none is left unused.</summary>
    public static IEnumerable<string> EmbeddedScriptNames =>
        typeof(StreamScripts).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && !n.StartsWith(ResourcePrefix + "_", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^".lua".Length]);

    /// <summary>The text of an embedded stream file as written, includes not expanded.</summary>
    public static string ReadRaw(string fileName)
    {
        using Stream stream = typeof(StreamScripts).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new InvalidOperationException($"The Lua resource '{fileName}' is not embedded in {typeof(StreamScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>A stream file by name, falling back to the list backend's (its shared includes).</summary>
    private static string ReadStreamOrListRaw(string fileName) =>
        typeof(StreamScripts).Assembly.GetManifestResourceInfo(ResourcePrefix + fileName) is null ? LuaScripts.ReadRaw(fileName) : ReadRaw(fileName);

    private static RedisScript Load(string name) => LuaScripts.Load(name, ReadStreamOrListRaw);
}
