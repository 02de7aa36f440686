using System.Globalization;
using System.Reflection;
using System.Text;

namespace ResilientQueue.Redis.Scripting;

/// <summary>One Lua script: a transition of the job state machine, embedded as <c>Lua/&lt;verb&gt;-&lt;number of keys&gt;.lua</c>.</summary>
/// <param name="Name">The file name without extension, e.g. <c>fetch-5</c>.</param>
/// <param name="KeyCount">How many KEYS the script takes (the number in its name).</param>
/// <param name="Text">The script, with its includes expanded.</param>
internal sealed record RedisScript(string Name, int KeyCount, string Text)
{
    /// <summary>The SHA-1 of <see cref="Text"/> (UTF-8), the name Redis knows the script by (EVALSHA).</summary>
    public byte[] Sha1 { get; } = System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(Text));
}

/// <summary>The embedded scripts, loaded once. A line <c>--!include _x.lua</c> is replaced by that file.</summary>
internal static class LuaScripts
{
    private const string ResourcePrefix = "ResilientQueue.Redis.Lua.";
    private const string IncludeDirective = "--!include ";

    public static readonly RedisScript Enqueue = Load("enqueue-5");
    public static readonly RedisScript Fetch = Load("fetch-7");
    public static readonly RedisScript Ack = Load("ack-5");
    public static readonly RedisScript Complete = Load("complete-5");
    public static readonly RedisScript Transition = Load("transition-8");
    public static readonly RedisScript Renew = Load("renew-3");
    public static readonly RedisScript Started = Load("started-2");
    public static readonly RedisScript Checkpoint = Load("checkpoint-3");
    public static readonly RedisScript Expired = Load("expired-4");
    public static readonly RedisScript GetJob = Load("getjob-6");
    public static readonly RedisScript Status = Load("status-7");
    public static readonly RedisScript Peek = Load("peek-4");
    public static readonly RedisScript Ages = Load("ages-5");
    public static readonly RedisScript Requeue = Load("requeue-6");
    public static readonly RedisScript Purge = Load("purge-3");
    public static readonly RedisScript DeadList = Load("deadlist-3");
    public static readonly RedisScript Turn = Load("turn-1");
    public static readonly RedisScript Clear = Load("clear-9");

    /// <summary>Every script, for tests that check headers and key counts.</summary>
    public static IReadOnlyList<RedisScript> All { get; } =
        [Enqueue, Fetch, Ack, Complete, Transition, Renew, Started, Checkpoint, Expired, GetJob, Status, Peek, Ages, Requeue, Purge, DeadList, Turn, Clear];

    /// <summary>The names of every embedded script file (without includes), to check none is left unused.</summary>
    public static IEnumerable<string> EmbeddedScriptNames =>
        typeof(LuaScripts).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && !n.StartsWith(ResourcePrefix + "_", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^".lua".Length]);

    /// <summary>The text of an embedded file as written, includes not expanded.</summary>
    public static string ReadRaw(string fileName)
    {
        using Stream stream = typeof(LuaScripts).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new InvalidOperationException($"The Lua resource '{fileName}' is not embedded in {typeof(LuaScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Loads the script <paramref name="name"/>, reading it and its includes with <paramref name="readRaw"/> (for the list backend's, <see cref="ReadRaw"/>).</summary>
    internal static RedisScript Load(string name, Func<string, string>? readRaw = null)
    {
        readRaw ??= ReadRaw;
        int keyCount = int.Parse(name.AsSpan(name.LastIndexOf('-') + 1), NumberStyles.None, CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        foreach (string line in readRaw(name + ".lua").Split('\n'))
        {
            text.Append(line.StartsWith(IncludeDirective, StringComparison.Ordinal) ? readRaw(line[IncludeDirective.Length..].Trim()) : line).Append('\n');
        }

        return new RedisScript(name, keyCount, text.ToString());
    }
}
