// The dashboard sample: `dotnet run --project samples/Dashboard` (in-memory), or `-- --redis localhost:6379`.
// Open http://127.0.0.1:5080/queues for the dashboard and http://127.0.0.1:5080/metrics for Prometheus.
await DashboardSample.SampleHost.Build(DashboardSample.SampleHost.CreateBuilder(args)).RunAsync();
