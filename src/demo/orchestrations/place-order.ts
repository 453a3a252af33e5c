import { defineActivity, defineOrchestration } from "../../orchestration/index.js";

export interface OrderRequest {
  readonly orderId: string;
  readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>;
}

function checkOrder(order: OrderRequest): void {
  if (typeof order?.orderId !== "string" || order.orderId.length === 0) throw new TypeError("an order needs an orderId");
  if (!Array.isArray(order.items) || order.items.length === 0) throw new TypeError(`order ${order.orderId} has no items`);
}

export const CheckAndReserveInventory = defineActivity("CheckAndReserveInventory", (order: OrderRequest) => {
  checkOrder(order);
  return true;
});

export const ProcessPayment = defineActivity("ProcessPayment", (order: OrderRequest) => {
  checkOrder(order);
  return true;
});

/** The tracking number is derived from the order id, so a retried shipment gets the same one. */
export const ScheduleShipping = defineActivity("ScheduleShipping", (order: OrderRequest) => {
  checkOrder(order);
  let hash = 0;
  for (const char of order.orderId) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return `TRK-${order.orderId}-${hash.toString(36).toUpperCase()}`;
});

export const EmailCustomer = defineActivity("EmailCustomer", (trackingNumber: string) => `sent: your order ships as ${trackingNumber}`);

/** The seeds' PlaceOrder: four activities in a chain; the output is the tracking number. */
export const PlaceOrder = defineOrchestration("PlaceOrder", function* (ctx, order: OrderRequest) {
  yield* ctx.call(CheckAndReserveInventory, order);
  yield* ctx.call(ProcessPayment, order);
  const trackingNumber = yield* ctx.call(ScheduleShipping, order);
  yield* ctx.call(EmailCustomer, trackingNumber);
  return trackingNumber;
});

/** A sub-orchestration per order, in parallel; the tracking numbers in input order. */
export const OrderSaga = defineOrchestration("OrderSaga", function* (ctx, orders: OrderRequest[]) {
  const placed = orders.map((order) => ctx.call(PlaceOrder, order));
  return yield* ctx.Task.all(placed);
});
