// ResilientQueue micro-benchmarks (BenchmarkDotNet).
// Usage: dotnet run -c Release --project benchmarks/ResilientQueue.Benchmarks -- --filter '*' [--job short]
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
