// A worker process of the SIGKILL storm test: `dotnet ResilientQueue.StormWorker.dll <redis configuration> <queue>
// <concurrency>`. Runs the hosted worker and the stale-job reaper through DI (lease 2 s, reaper every second), prints
// "ready <pid>" once started and one line per reaper requeue ("reaped <event id> <job id>"), and stops gracefully
// when its standard input closes. The test kills it with SIGKILL at random moments.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue;
using ResilientQueue.Processing;
using ResilientQueue.StormWorker;
using StackExchange.Redis;

if (args.Length != 3 || !int.TryParse(args[2], out int concurrency) || concurrency is < 1 or > 100)
{
    Console.Error.WriteLine("usage: ResilientQueue.StormWorker <redis configuration> <queue> <concurrency 1-100>");
    return 2;
}

string queue = args[1];
using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(args[0]);
HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddProvider(new ReapedLineLogger());
builder.Services.AddSingleton<IConnectionMultiplexer>(redis);
builder.Services.AddSingleton(new StormEvents(redis.GetDatabase(), queue));
builder.Services.AddResilientQueue()
    .UseRedisLists()
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
