using System.Text.Json;

namespace ResilientQueue.Serialization;

/// <summary>
/// The default <see cref="IJobSerializer"/>: UTF-8 JSON through System.Text.Json, with web defaults (camelCase,
/// case-insensitive reads) and strict reads: a payload that misses a constructor parameter (<c>{}</c> for
/// <c>record Page(string Url)</c>) or puts <c>null</c> in a non-nullable reference member is refused with a
/// <see cref="JsonException"/>, which the worker classifies as a validation error and dead-letters at once, instead of
/// handing the handler a <see langword="null"/> it would fail on attempt after attempt.
/// </summary>
public sealed class SystemTextJsonJobSerializer : IJobSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer.</summary>
    /// <param name="options">
    /// The JSON options, copied and used as given; <see langword="null"/> for <see cref="JsonSerializerDefaults.Web"/> with
    /// <see cref="JsonSerializerOptions.RespectNullableAnnotations"/> and
    /// <see cref="JsonSerializerOptions.RespectRequiredConstructorParameters"/> on.
    /// </param>
    public SystemTextJsonJobSerializer(JsonSerializerOptions? options = null)
    {
        _options = options is null
            ? new JsonSerializerOptions(JsonSerializerDefaults.Web) { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true }
            : new JsonSerializerOptions(options);
        _options.MakeReadOnly(populateMissingResolver: true);
    }

    /// <summary>The serializer with web defaults and strict reads.</summary>
    public static SystemTextJsonJobSerializer Default { get; } = new();

    /// <inheritdoc />
    public byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    /// <inheritdoc />
    /// <exception cref="JsonException">The bytes are not JSON for a <typeparamref name="T"/>, or are JSON <c>null</c>.</exception>
    public T Deserialize<T>(ReadOnlyMemory<byte> payload) =>
        JsonSerializer.Deserialize<T>(payload.Span, _options)
        ?? throw new JsonException($"The payload is JSON null, not a {typeof(T).Name}.");
}
