using FluentAssertions;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary><c>resq</c> with an ACL user (<c>user=…,password=…</c>): accepted when right, a clear one-line error when not.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliAclTests(RedisServerFixture redis) : CliTestBase(redis)
{
    private const string User = "resq-cli-operator";
    private const string Password = "cli-acl-s3cret";
    private const string WrongPassword = "not-the-cli-password";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Database.ExecuteAsync("ACL", "SETUSER", User, "reset", "on", ">" + Password, "~*", "&*", "+@all");
    }

    public override async Task DisposeAsync()
    {
        await Database.ExecuteAsync("ACL", "DELUSER", User);
        await base.DisposeAsync();
    }

    [Fact]
    public async Task AclUser_RightPassword_RunsTheCommandAsThatUser()
    {
        CliResult enqueue = await RunAsync(["enqueue", "acl-orders", "--payload", "{}", "--json"], string.Empty, stdinIsTerminal: false, redis: Configuration(Password));
        CliResult queues = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: Configuration(Password));

        enqueue.ExitCode.Should().Be(0, enqueue.ToString());
        queues.ExitCode.Should().Be(0, queues.ToString());
        queues.Stdout.Should().Contain("acl-orders");
        (enqueue.Stdout + enqueue.Stderr + queues.Stdout + queues.Stderr).Should().NotContain(Password);
    }

    [Fact]
    public async Task AclUser_WrongPassword_IsExitCode1NamingTheUserAndEndpointNotThePassword()
    {
        // The server's default user needs no password here, so the client would go on as "default": resq must not.
        CliResult result = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: Configuration(WrongPassword));

        result.ExitCode.Should().Be(1, result.ToString());
        result.Stderr.Should().Be($"error: Redis rejected the credentials of user '{User}' (at 127.0.0.1:{Redis.Port}); check the password/user in --redis or RESQ_REDIS" + Environment.NewLine);
        result.Stdout.Should().BeEmpty();
        (result.Stdout + result.Stderr).Should().NotContain(WrongPassword).And.NotContain(Password);
    }

    private string Configuration(string password) => $"127.0.0.1:{Redis.Port},user={User},password={password}";
}
