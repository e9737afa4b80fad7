using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Crm.Jobs.Data;

// Lets `dotnet ef migrations add` build the model without starting the web host.
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<CrmDbContext>
{
    public CrmDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, "Host=localhost;Database=crm_design_time");
        return new CrmDbContext(options.Options);
    }
}
