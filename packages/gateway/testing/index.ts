/** @zimage/gateway/testing: the gateway as a peer for its clients' tests (not for production). */
export { HttpProxy, type HttpProxyOptions } from './http-proxy.ts';
export { startTestGateway, type TestGateway, type TestKeyOptions } from './test-gateway.ts';
