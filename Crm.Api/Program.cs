using Crm.Api;
using Crm.Jobs;
using Crm.Jobs.Data;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(args);
    // `--role worker` is the short form of `--Crm:Role worker`.
    builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--role"] = "Crm:Role" });
    builder.AddCrmJobs();
    builder.AddCrmApi(serving: !Commands.IsCommand(args));
    // A command's result is its standard output (`sync | jq`): every log line goes to stderr.
    if (Commands.IsCommand(args))
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    app = builder.Build();
}
catch (InvalidOperationException e)
{
    // A configuration mistake: say which setting, without a stack trace, and exit non-zero.
    Console.Error.WriteLine($"crm-minimal cannot start: {e.Message}");
    return 1;
}

if (Commands.IsCommand(args))
    return await Commands.RunAsync(app, args);

// The settings' checks (ValidateOnStart) run before the host starts: a mistake fails the start
// with the OptionsValidationException naming the setting. Inside RunAsync the failed host is
// disposed at once, and a test host waiting for it sees an ObjectDisposedException instead.
app.Services.GetRequiredService<IStartupValidator>().Validate();

// Outside Development, migrations run only through the `migrate` command.
if (app.Environment.IsDevelopment())
{
    await using var scope = app.Services.CreateAsyncScope();
    await CrmDatabase.MigrateAsync(scope.ServiceProvider.GetRequiredService<CrmDbContext>());
}

app.UseCrmApi();
await app.RunAsync();
return 0;

public partial class Program;
