namespace ResilientQueue.Cli;

/// <summary>The <c>resq</c> executable.</summary>
internal static class Program
{
    private static Task<int> Main(string[] args) =>
        CliApplication.RunAsync(args, Console.Out, Console.Error, Console.In, stdinIsTerminal: !Console.IsInputRedirected);
}
