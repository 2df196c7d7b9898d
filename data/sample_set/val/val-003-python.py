import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 3))
ax.plot([9, 6, 2], color='#2ca02c', marker='o', linewidth=3)
ax.set_title('Alpha')
plt.show()
