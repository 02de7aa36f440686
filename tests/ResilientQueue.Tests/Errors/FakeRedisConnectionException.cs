// The core recognises Redis connection errors by type name, without referencing StackExchange.Redis. This stand-in has
// the real type's full name but lives in the test assembly, so only a classifier that matches by name recognises it.
// The test project also sees the real StackExchange.Redis assembly (through the Redis package), so this source type
// shadows the imported one; CS0436 says so wherever the name is used, on purpose here.
#pragma warning disable CS0436
namespace StackExchange.Redis;

/// <summary>Not StackExchange.Redis's exception: a test type with the same full name.</summary>
public class RedisConnectionException(string message) : Exception(message);

/// <summary>A type derived from the stand-in: recognised through its base type's name.</summary>
public sealed class DerivedRedisConnectionException(string message) : RedisConnectionException(message);
