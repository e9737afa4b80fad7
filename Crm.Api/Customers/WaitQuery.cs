using Microsoft.AspNetCore.Mvc;

namespace Crm.Api.Customers;

// How long a POST waits for its job before answering 202 with the job to follow; named
// for the document too, which would otherwise show the property's spelling, Wait.
public sealed record WaitQuery([FromQuery(Name = "wait")] int Wait = OriginalRoutesEndpoints.DefaultWaitSeconds);
