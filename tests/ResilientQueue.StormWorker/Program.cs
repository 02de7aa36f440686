// A worker process of the SIGKILL storm tests: `dotnet ResilientQueue.StormWorker.dll <redis configuration> <queue>
// <concurrency> [lists|streams]` (the backend; lists when omitted). Runs the hosted worker and the stale-job reaper through DI (lease 2 s, reaper every second), prints
// "ready <pid>" once started and one line per reaper requeue ("reaped <event id> <job id>"), and stops gracefully
// when its standard input closes. The test kills it with SIGKILL at random moments.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue;
using ResilientQueue.Processing;
using ResilientQueue.StormWorker;
using StackExchange.Redis;

if (args.Length is not (3 or 4) || !int.TryParse(args[2], out int concurrency) || concurrency is < 1 or > 100 || (args.Length == 4 && args[3] is not ("lists" or "streams")))
{
    Console.Error.WriteLine("usage: ResilientQueue.StormWorker <redis configuration> <queue> <concurrency 1-100> [lists|streams]");
    return 2;
}

bool streams = args.Length == 4 && args[3] == "streams";

string queue = args[1];
using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(args[0]);
HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddProvider(new ReapedLineLogger());
builder.Services.AddSingleton<IConnectionMultiplexer>(redis);
builder.Services.AddSingleton(new StormEvents(redis.GetDatabase(), queue));
ResilientQueue.DependencyInjection.ResilientQueueBuilder queues = builder.Services.AddResilientQueue();
_ = streams ? queues.UseRedisStreams(o => o.Group = "storm") : queues.UseRedisLists();
queues
    .AddStaleJobReaper(r => r.Interval = TimeSpan.FromSeconds(1))
    .AddHandler<StormHandler, StormJob>(queue, w =>
    {
        w.Concurrency = concurrency;
        w.LeaseDuration = TimeSpan.FromSeconds(2);
    });
using IHost host = builder.Build();
await host.StartAsync();
Console.WriteLine($"ready {Environment.ProcessId}");
_ = Task.Run(async () =>
{
    while (await Console.In.ReadLineAsync() is not null)
    {
    }

    host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
});
await host.WaitForShutdownAsync();
return 0;
