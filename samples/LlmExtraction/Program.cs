// Seed 000's LLM extraction pipeline on ResilientQueue: `dotnet run --project samples/LlmExtraction` (in-memory),
// `-- --quick` (under 30 s, checks its outcome), `-- --redis 127.0.0.1:6379 [--workers 2]`. See README.md.
return await LlmExtraction.SampleRun.MainAsync(args);
