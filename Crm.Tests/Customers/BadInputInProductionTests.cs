using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

public class BadInputInProductionTests(CrmApiFactory factory)
    : BadInputTests<CrmApiFactory>(factory), IClassFixture<CrmApiFactory>;
