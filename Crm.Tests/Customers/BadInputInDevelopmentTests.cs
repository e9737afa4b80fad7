using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

public class BadInputInDevelopmentTests(DevelopmentCrmApiFactory factory)
    : BadInputTests<DevelopmentCrmApiFactory>(factory), IClassFixture<DevelopmentCrmApiFactory>;
