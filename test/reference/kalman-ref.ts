/**
 * Plain reference for the Kalman hedge (src/strategies/stat-arb/kalman.ts): the textbook
 * recursion with full 2×2 matrices and no algebraic shortcuts. Never imported by src/.
 */
type M2 = [[number, number], [number, number]];

export class KalmanRef {
  theta: [number, number];
  P: M2;
  constructor(beta0: number, alpha0: number, p0b: number, p0a: number, readonly Q: M2, readonly R: number) {
    this.theta = [beta0, alpha0];
    this.P = [[p0b, 0], [0, p0a]];
  }
  update(x: number, y: number): number {
    const H = [x, 1];
    const P: M2 = [[this.P[0][0] + this.Q[0][0], this.P[0][1] + this.Q[0][1]], [this.P[1][0] + this.Q[1][0], this.P[1][1] + this.Q[1][1]]];
    const e = y - (H[0]! * this.theta[0] + H[1]! * this.theta[1]);
    const PHt = [P[0][0] * H[0]! + P[0][1] * H[1]!, P[1][0] * H[0]! + P[1][1] * H[1]!];
    const S = H[0]! * PHt[0]! + H[1]! * PHt[1]! + this.R;
    const K = [PHt[0]! / S, PHt[1]! / S];
    this.theta = [this.theta[0] + K[0]! * e, this.theta[1] + K[1]! * e];
    // P = (I − K H) P
    const IKH: M2 = [[1 - K[0]! * H[0]!, -K[0]! * H[1]!], [-K[1]! * H[0]!, 1 - K[1]! * H[1]!]];
    this.P = [
      [IKH[0][0] * P[0][0] + IKH[0][1] * P[1][0], IKH[0][0] * P[0][1] + IKH[0][1] * P[1][1]],
      [IKH[1][0] * P[0][0] + IKH[1][1] * P[1][0], IKH[1][0] * P[0][1] + IKH[1][1] * P[1][1]],
    ];
    return e;
  }
}
