namespace Crm.Tests.Infrastructure;

// What a process printed: its standard output and its standard error apart, and together.
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;

    public void Deconstruct(out int exitCode, out string output) => (exitCode, output) = (ExitCode, Output);
}
