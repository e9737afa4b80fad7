using Crm.Api;
using Crm.Jobs;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;

var builder = WebApplication.CreateBuilder(args);
builder.AddCrmJobs();
builder.AddCrmApi();

var app = builder.Build();

if (Commands.IsCommand(args))
    return await Commands.RunAsync(app, args);

// Outside Development, migrations run only through the `migrate` command.
if (app.Environment.IsDevelopment())
{
    await using var scope = app.Services.CreateAsyncScope();
    await scope.ServiceProvider.GetRequiredService<CrmDbContext>().Database.MigrateAsync();
}

app.UseCrmApi();
await app.RunAsync();
return 0;

public partial class Program;
